# SPDX-License-Identifier: MIT
"""A minimal client of the GDB remote serial protocol, enough to drive qemu's gdbstub: read and
write memory, set breakpoints, continue and wait for the next stop.

    gdb = GdbRemote(socket_path)
    gdb.write(0x1000, b"...")
    gdb.breakpoint(0x2000)
    gdb.resume(timeout_s=60)     # returns when the core stops (breakpoint)
"""

import socket
import time

CHUNK = 1024  # bytes per memory packet (qemu's packets hold 4 KiB of hex)


class GdbError(Exception):
    pass


class GdbRemote:
    def __init__(self, path, connect_timeout_s=10.0):
        deadline = time.monotonic() + connect_timeout_s
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise GdbError(f"no gdbstub at {path} after {connect_timeout_s} s") from None
                time.sleep(0.05)
        self.buffer = b""
        self.breakpoints: list[int] = []
        self.request("?")  # the stop reason of the halted core: the session is up

    def close(self) -> None:
        self.sock.close()

    # -- packets -----------------------------------------------------------------------
    def _send(self, payload: str) -> None:
        checksum = sum(payload.encode()) & 0xFF
        self.sock.sendall(f"${payload}#{checksum:02x}".encode())

    def _read_packet(self, timeout_s) -> str:
        self.sock.settimeout(timeout_s)
        while True:
            start = self.buffer.find(b"$")
            end = self.buffer.find(b"#", start + 1) if start >= 0 else -1
            if start >= 0 and end >= 0 and len(self.buffer) >= end + 3:
                payload = self.buffer[start + 1 : end]
                self.buffer = self.buffer[end + 3 :]
                self.sock.sendall(b"+")
                return payload.decode()
            data = self.sock.recv(65536)
            if not data:
                raise GdbError("qemu closed the gdb connection (the emulator stopped)")
            self.buffer += data  # acks ("+") before a packet are skipped by find("$")

    def request(self, payload: str, timeout_s=10.0) -> str:
        self._send(payload)
        reply = self._read_packet(timeout_s)
        if reply.startswith("E") and len(reply) == 3:
            raise GdbError(f"gdbstub refused {payload[:20]!r}: {reply}")
        return reply

    # -- operations --------------------------------------------------------------------
    def read(self, address: int, n: int) -> bytes:
        out = bytearray()
        for at in range(address, address + n, CHUNK):
            size = min(CHUNK, address + n - at)
            out += bytes.fromhex(self.request(f"m{at:x},{size:x}"))
        return bytes(out)

    def write(self, address: int, data: bytes) -> None:
        for i in range(0, len(data), CHUNK):
            chunk = data[i : i + CHUNK]
            if self.request(f"M{address + i:x},{len(chunk):x}:{chunk.hex()}") != "OK":
                raise GdbError(f"writing {len(chunk)} bytes at {address + i:#x} failed")

    def breakpoint(self, address: int) -> None:
        if self.request(f"Z0,{address:x},3") != "OK":
            raise GdbError(f"qemu set no breakpoint at {address:#x}")
        self.breakpoints.append(address)

    def resume(self, timeout_s: float) -> str:
        """Continue until the core stops; returns the stop reply. On timeout the core is
        interrupted (so the session stays usable) and TimeoutError is raised.

        As gdb does, the first instruction is single-stepped with the breakpoints removed:
        qemu would stop again on the breakpoint the core is sitting on."""
        for address in self.breakpoints:
            self.request(f"z0,{address:x},3")
        self.request("s")
        for address in self.breakpoints:
            self.request(f"Z0,{address:x},3")
        self._send("c")
        try:
            return self._read_packet(timeout_s)
        except socket.timeout:
            self.sock.sendall(b"\x03")
            self._read_packet(10.0)
            raise TimeoutError(f"the core did not stop within {timeout_s} s") from None
