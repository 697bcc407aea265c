# SPDX-License-Identifier: MIT
"""A small raw-REPL client over pyserial: run code on a MicroPython board and move files.

Protocol facts (MicroPython's raw REPL, as its pyexec implements it):
- Ctrl-C interrupts a running program; Ctrl-A enters the raw REPL, which answers
  "raw REPL; CTRL-B to exit" and a ">" prompt; Ctrl-B goes back to the friendly REPL.
- Plain raw mode: send the code and Ctrl-D; the board answers "OK", runs it and sends
  stdout, \\x04, stderr (a traceback, if any), \\x04, then the ">" prompt. Ctrl-D on an empty
  line is a soft reset.
- Raw-paste mode (flow-controlled, for boards with small input buffers): send \\x05 "A" \\x01;
  "R\\x01" + a little-endian u16 window means supported (the board also sends \\x01 at once:
  two windows are free), "R\\x00" means not supported. The host sends at most the free window,
  each \\x01 from the board frees one more window; the host ends with Ctrl-D, the board
  acknowledges with \\x04 (it sends \\x04 early if it stops reading), then the same
  stdout \\x04 stderr \\x04 ">" framing follows.

Files are written with base64 chunks to `path + ".part"`, checked (size and, where the board
has binascii.crc32, the CRC) and only then renamed to `path`, so an interrupted copy never
leaves a half file under the real name.
"""

import ast
import base64
import posixpath
import time
import zlib
from dataclasses import dataclass

import serial

from .errors import MicrotrainError

CTRL_A, CTRL_B, CTRL_C, CTRL_D, CTRL_E = b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"
RAW_BANNER = b"raw REPL; CTRL-B to exit"
PASTE_REQUEST = CTRL_E + b"A" + CTRL_A
PART_SUFFIX = ".part"
DEFAULT_CHUNK = 2048  # raw bytes per write; the board holds ~3x this while decoding
RAW_WRITE_BLOCK = 256  # plain raw mode has no flow control: write in blocks with a pause
ST_DIR = 0x4000


class DeviceError(MicrotrainError):
    """The code raised an exception on the board; `traceback` is the board's text."""

    def __init__(self, message: str, traceback: str):
        super().__init__(message)
        self.traceback = traceback


class TransportTimeout(MicrotrainError):
    """The board did not answer in time; the message says what was awaited."""


@dataclass
class PutResult:
    remote: str
    size: int
    seconds: float
    crc_checked: bool

    @property
    def bytes_per_s(self) -> float:
        return self.size / self.seconds if self.seconds > 0 else float("inf")


def _text(data: bytes) -> str:
    # Boards send \r\n; the unix port behind a tty may send \r\r\n.
    return data.decode("utf-8", "replace").replace("\r\r\n", "\n").replace("\r\n", "\n")


def _lit(value: str) -> str:
    """A Python string literal for device code (repr is valid MicroPython source)."""
    return repr(str(value))


def _summary(code: str) -> str:
    first = code.strip().splitlines()[0] if code.strip() else ""
    return first if len(first) <= 60 else first[:57] + "..."


class RawRepl:
    """A board's raw REPL over an open pyserial port (or anything with its read/write API).

    raw_paste: None (or True) uses raw-paste mode when the board offers it, False never does.
    raw_write_pause: seconds between 256-byte blocks in plain raw mode (no flow control there).
    Use `connect(port)` to open a port by name.
    """

    def __init__(self, port, *, name: str | None = None, raw_paste: bool | None = None,
                 raw_write_pause: float = 0.01):
        self._port = port
        self.name = name or getattr(port, "port", None) or "serial port"
        self._rx = bytearray()
        self._paste_ok = False if raw_paste is False else None  # None: not asked yet
        self._raw_write_pause = raw_write_pause
        self._broken: str | None = None
        self.in_raw_repl = False

    # -- bytes in and out -------------------------------------------------------------------

    def _write(self, data: bytes, deadline: float, timeout: float) -> None:
        # A board that stops reading fills the buffers on the way; a bounded write turns that
        # into a timeout instead of a hang.
        try:
            self._port.write_timeout = max(0.01, deadline - time.monotonic())
            self._port.write(data)
        except serial.SerialTimeoutException:
            raise self._timeout("the board to take the bytes sent to it", timeout) from None
        except OSError as err:  # serial.SerialException is one: unplugged, closed
            raise self._port_failed(err) from None

    def _waiting(self) -> int:
        try:
            return self._port.in_waiting
        except OSError as err:
            raise self._port_failed(err) from None

    def _port_failed(self, err) -> MicrotrainError:
        self._broken = f"the serial port failed ({err})"
        return MicrotrainError(f"{self.name}: serial port failed: {err}")

    def _fill(self, deadline: float) -> bool:
        """Read what has arrived (waiting at most until deadline); False if nothing came."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            self._port.timeout = min(remaining, 0.2)
            chunk = self._port.read(max(1, self._port.in_waiting))
        except OSError as err:  # serial.SerialException is one: unplugged, closed
            raise self._port_failed(err) from None
        self._rx += chunk
        return bool(chunk)

    def _read_until(self, marker: bytes, deadline: float, what: str, timeout: float) -> bytes:
        while True:
            i = self._rx.find(marker)
            if i >= 0:
                data = bytes(self._rx[:i])
                del self._rx[: i + len(marker)]
                return data
            if time.monotonic() >= deadline:
                raise self._timeout(what, timeout)
            self._fill(deadline)

    def _read_exact(self, n: int, deadline: float, what: str, timeout: float) -> bytes:
        while len(self._rx) < n:
            if time.monotonic() >= deadline:
                raise self._timeout(what, timeout)
            self._fill(deadline)
        data = bytes(self._rx[:n])
        del self._rx[:n]
        return data

    def _timeout(self, what: str, timeout: float) -> TransportTimeout:
        tail = bytes(self._rx[-80:])
        got = f"; last bytes received: {tail!r}" if tail else "; nothing was received"
        return TransportTimeout(f"{self.name}: no answer within {timeout:g} s while waiting "
                                f"for {what}{got}")

    def _drain(self, quiet: float, deadline: float) -> None:
        """Discard input until the line has been quiet for `quiet` seconds (or the deadline)."""
        while self._fill(min(deadline, time.monotonic() + quiet)):
            pass
        self._rx.clear()

    def _check_usable(self) -> None:
        if self._broken:
            raise MicrotrainError(f"{self.name}: connection unusable: {self._broken}")

    # -- REPL modes -------------------------------------------------------------------------

    def enter(self, timeout: float = 5.0) -> None:
        """Stop whatever runs (Ctrl-C) and enter the raw REPL."""
        deadline = time.monotonic() + timeout
        # Let a program that is just finishing end first: the unix port dies of a Ctrl-C that
        # lands between the end of a program and its terminal's return to raw mode. A program
        # that keeps printing is not waited for long.
        self._drain(0.1, min(deadline, time.monotonic() + 0.5))
        self._write(b"\r" + CTRL_C, deadline, timeout)
        time.sleep(0.05)
        self._write(CTRL_C, deadline, timeout)
        self._drain(0.1, min(deadline, time.monotonic() + 0.5))
        self._write(b"\r" + CTRL_A, deadline, timeout)
        self._read_until(RAW_BANNER, deadline, "the raw REPL banner after Ctrl-A", timeout)
        self._read_until(b">", deadline, "the raw REPL prompt", timeout)
        self.in_raw_repl = True
        self._broken = None

    def leave(self) -> None:
        """Back to the friendly REPL (best effort: used when closing)."""
        if self.in_raw_repl and not self._broken:
            try:
                self._write(CTRL_B, time.monotonic() + 1.0, 1.0)
            except MicrotrainError:
                pass
        self.in_raw_repl = False

    def close(self) -> None:
        self.leave()
        try:
            self._port.close()
        except OSError:  # closing a port that failed must not hide the first error
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def soft_reset(self, timeout: float = 10.0) -> None:
        """Ctrl-D at the empty raw prompt: the board restarts its interpreter (boot.py runs,
        freshly imported modules) and comes back in the raw REPL. The unix port exits."""
        self._check_usable()
        deadline = time.monotonic() + timeout
        self._write(CTRL_D, deadline, timeout)
        self._read_until(b"OK", deadline, "'OK' after the soft-reset request", timeout)
        try:
            self._read_until(RAW_BANNER, deadline, "the raw REPL after a soft reset", timeout)
            self._read_until(b">", deadline, "the raw REPL prompt after a soft reset", timeout)
        except TransportTimeout as err:
            self._broken = "the board did not come back after a soft reset"
            message = f"{err} (the board did not come back after the soft reset)"
            raise TransportTimeout(message) from None

    def interrupt(self, timeout: float = 2.0) -> bool:
        """Ctrl-C a running program and get back to the raw prompt; False if the board stays
        silent (it is then marked unusable)."""
        try:
            self.enter(timeout)
            return True
        except TransportTimeout:
            self._broken = "the board did not answer Ctrl-C after a timeout; reset it"
            return False

    # -- running code -----------------------------------------------------------------------

    def exec_raw(self, code: str, timeout: float = 10.0) -> tuple[str, str]:
        """Run code; return (stdout, stderr) as text. On a timeout the program is interrupted."""
        self._check_usable()
        if not self.in_raw_repl:
            self.enter()
        data = code.encode("utf-8")
        deadline = time.monotonic() + timeout
        try:
            if self._paste_ok is not False and self._start_paste(deadline, timeout):
                self._send_paste(data, deadline, timeout)
            else:
                self._send_plain(data, deadline, timeout)
            out = self._read_until(CTRL_D, deadline, "the end of the program's output", timeout)
            err = self._read_until(CTRL_D, deadline, "the end of the error output", timeout)
            self._read_until(b">", deadline, "the raw REPL prompt after the program", timeout)
        except TransportTimeout as late:
            if self._broken:
                raise
            recovered = self.interrupt()
            how = ("it was interrupted (Ctrl-C) and the raw REPL is ready again" if recovered
                   else "it did not answer Ctrl-C either: reset the board")
            raise TransportTimeout(f"{late}; running: {_summary(code)!r}; {how}") from None
        return _text(out), _text(err)

    def exec(self, code: str, timeout: float = 10.0) -> str:
        """Run code; return its stdout. An exception on the board raises DeviceError."""
        out, err = self.exec_raw(code, timeout)
        if err:
            last = err.strip().splitlines()[-1] if err.strip() else err
            raise DeviceError(f"{self.name}: the board raised {last}\nwhile running "
                              f"{_summary(code)!r}; its traceback:\n{err.rstrip()}", err)
        return out

    def eval(self, expr: str, timeout: float = 10.0):
        """The value of a Python expression on the board (its repr read back as a literal)."""
        out = self.exec(f"print(repr({expr}))", timeout)
        try:
            return ast.literal_eval(out.strip())
        except (ValueError, SyntaxError):
            raise MicrotrainError(f"{self.name}: cannot read back the value of {expr!r}: "
                                  f"{out.strip()!r}") from None

    def _start_paste(self, deadline: float, timeout: float) -> bool:
        self._write(PASTE_REQUEST, deadline, timeout)
        reply = self._read_exact(2, deadline, "the answer to the raw-paste request", timeout)
        if reply == b"R\x01":
            self._window = int.from_bytes(
                self._read_exact(2, deadline, "the raw-paste window size", timeout), "little")
            self._paste_ok = True
            return True
        # "R\x00": known but unsupported, the board prints a new prompt. Anything else: an
        # old board took the bytes as a line and re-entered the raw REPL (a new banner).
        if reply != b"R\x00":
            self._rx[:0] = reply  # the start of that banner
            self._read_until(RAW_BANNER, deadline, "the raw REPL banner", timeout)
        self._read_until(b">", deadline, "the raw REPL prompt", timeout)
        self._paste_ok = False
        return False

    def _send_paste(self, data: bytes, deadline: float, timeout: float) -> None:
        window, free, pos = self._window, self._window, 0
        while pos < len(data):
            # Take flow-control bytes that have arrived; wait for one when no window is free.
            while free == 0 or self._rx or self._waiting():
                byte = self._read_exact(1, deadline, "raw-paste flow control", timeout)
                if byte == CTRL_A:
                    free += window
                elif byte == CTRL_D:  # the board stopped reading (e.g. a syntax error)
                    self._write(CTRL_D, deadline, timeout)
                    return
                else:
                    raise MicrotrainError(f"{self.name}: unexpected byte {byte!r} during "
                                          "raw-paste transfer")
            n = min(free, len(data) - pos)
            self._write(data[pos : pos + n], deadline, timeout)
            pos += n
            free -= n
        self._write(CTRL_D, deadline, timeout)
        while True:
            byte = self._read_exact(1, deadline, "the end of the raw-paste transfer", timeout)
            if byte == CTRL_D:
                return
            if byte != CTRL_A:
                raise MicrotrainError(f"{self.name}: unexpected byte {byte!r} after "
                                      "raw-paste transfer")

    def _send_plain(self, data: bytes, deadline: float, timeout: float) -> None:
        for i in range(0, len(data), RAW_WRITE_BLOCK):
            self._write(data[i : i + RAW_WRITE_BLOCK], deadline, timeout)
            if self._raw_write_pause and i + RAW_WRITE_BLOCK < len(data):
                time.sleep(self._raw_write_pause)
        self._write(CTRL_D, deadline, timeout)
        reply = self._read_exact(2, deadline, "'OK' after the code", timeout)
        if reply != b"OK":
            raise MicrotrainError(f"{self.name}: expected 'OK' from the raw REPL, got "
                                  f"{reply!r}: the board is not in the raw REPL")

    # -- files ------------------------------------------------------------------------------

    def mkdir(self, remote: str, timeout: float = 10.0) -> None:
        """Make a folder and its parents; existing folders are fine, a file in the way is not."""
        parts = [p for p in remote.strip("/").split("/") if p]
        prefix = "/" if remote.startswith("/") else ""
        paths = [prefix + "/".join(parts[: i + 1]) for i in range(len(parts))]
        if not paths:
            return
        self.exec(
            "import os\n"
            f"for p in {paths!r}:\n"
            "    try:\n"
            "        os.mkdir(p)\n"
            "    except OSError as e:\n"
            f"        if e.args[0] != 17 or not os.stat(p)[0] & {ST_DIR}:\n"
            "            raise\n",
            timeout,
        )

    def put_file(self, data: bytes, remote: str, *, chunk_size: int = DEFAULT_CHUNK,
                 progress=None, timeout: float = 10.0) -> PutResult:
        """Write `data` to `remote` on the board: chunks to remote.part, check, rename.

        progress(sent, total) is called after each chunk. timeout applies to each step.
        """
        if chunk_size < 1:
            raise MicrotrainError(f"chunk size must be at least 1 byte, got {chunk_size}")
        start = time.monotonic()
        part = remote + PART_SUFFIX
        self.exec(
            "import os, binascii\n"
            f"_mt_f = open({_lit(part)}, 'wb')\n"
            "_mt_crc = getattr(binascii, 'crc32', None)\n"
            "_mt_c = 0\n"
            "def _mt_w(b):\n"
            "    global _mt_c\n"
            "    b = binascii.a2b_base64(b)\n"
            "    _mt_f.write(b)\n"
            "    if _mt_crc:\n"
            "        _mt_c = _mt_crc(b, _mt_c)\n",
            timeout,
        )
        try:
            for pos in range(0, len(data), chunk_size):
                chunk = base64.b64encode(data[pos : pos + chunk_size]).decode("ascii")
                self.exec(f"_mt_w(b'{chunk}')", timeout)
                if progress:
                    progress(min(pos + chunk_size, len(data)), len(data))
            size, crc = self.eval(
                f"(_mt_f.close() or os.stat({_lit(part)})[6], _mt_c if _mt_crc else None)",
                timeout)
        except BaseException:
            self._forget_part(part)
            raise
        if size != len(data) or (crc is not None and crc != zlib.crc32(data)):
            self._forget_part(part)
            what = (f"size {size}, expected {len(data)}" if size != len(data)
                    else f"CRC32 {crc:#010x}, expected {zlib.crc32(data):#010x}")
            raise MicrotrainError(f"{self.name}: {remote} arrived damaged ({what}); "
                                  "the old file (if any) was kept")
        self.exec(
            "try:\n"
            f"    os.rename({_lit(part)}, {_lit(remote)})\n"
            "except OSError:\n"  # some filesystems refuse to rename over a file
            f"    os.remove({_lit(remote)})\n"
            f"    os.rename({_lit(part)}, {_lit(remote)})\n"
            "del _mt_f, _mt_w, _mt_c, _mt_crc\n",
            timeout,
        )
        return PutResult(remote, len(data), time.monotonic() - start, crc is not None)

    def _forget_part(self, part: str) -> None:
        """Best effort: close and remove the half-written temp file (never the real one)."""
        if self._broken:
            return
        try:
            self.enter(2.0)  # the copy may have stopped mid-exchange: get back in step first
            self.exec(
                "try:\n    _mt_f.close()\nexcept Exception:\n    pass\n"
                f"try:\n    os.remove({_lit(part)})\nexcept OSError:\n    pass\n",
                timeout=2.0,
            )
        except MicrotrainError:
            pass

    def get_file(self, remote: str, *, chunk_size: int = 3072, timeout: float = 10.0) -> bytes:
        """Read a file from the board (base64 chunks)."""
        if chunk_size < 1:
            raise MicrotrainError(f"chunk size must be at least 1 byte, got {chunk_size}")
        self.exec(
            "import binascii\n"
            f"_mt_f = open({_lit(remote)}, 'rb')\n"
            "def _mt_r(n):\n"
            "    b = _mt_f.read(n)\n"
            "    print(binascii.b2a_base64(b).decode() if b else '', end='')\n",
            timeout,
        )
        parts = []
        try:
            while True:
                text = self.exec(f"_mt_r({chunk_size})", timeout).strip()
                if not text:
                    break
                parts.append(base64.b64decode(text))
        finally:
            if not self._broken:
                self.exec("_mt_f.close()\ndel _mt_f, _mt_r\n", timeout)
        return b"".join(parts)

    def list_files(self, remote: str = "", timeout: float = 30.0) -> dict[str, int]:
        """Every file under `remote` (recursively): path relative to it -> size in bytes."""
        out = self.exec(
            "import os\n"
            "def _mt_ls(d, rel):\n"
            "    for e in os.ilistdir(d or '.'):\n"
            "        p = d.rstrip('/') + '/' + e[0] if d else e[0]\n"
            "        r = rel + '/' + e[0] if rel else e[0]\n"
            f"        if e[1] & {ST_DIR}:\n"
            "            _mt_ls(p, r)\n"
            "        else:\n"
            "            print(repr((r, os.stat(p)[6])))\n"
            f"_mt_ls({_lit(remote.rstrip('/') if remote != '/' else '/')}, '')\n"
            "del _mt_ls\n",
            timeout,
        )
        files = {}
        for line in out.splitlines():
            if line.strip():
                path, size = ast.literal_eval(line.strip())
                files[path] = size
        return files

    def remove(self, remote: str, timeout: float = 10.0) -> None:
        self.exec(f"import os\nos.remove({_lit(remote)})\n", timeout)


def connect(port: str, baud: int = 115200, *, raw_paste: bool | None = None,
            timeout: float = 5.0) -> RawRepl:
    """Open a serial port (a device path or a pyserial URL) and enter the board's raw REPL."""
    try:
        handle = serial.serial_for_url(port, baudrate=baud, timeout=0.2)
    except (serial.SerialException, OSError, ValueError) as err:
        raise MicrotrainError(f"cannot open serial port {port}: {err}") from None
    repl = RawRepl(handle, name=port, raw_paste=raw_paste)
    try:
        repl.enter(timeout)
    except BaseException:
        repl.close()
        raise
    return repl


def remote_join(*parts: str) -> str:
    return posixpath.join(*[p for p in parts if p])
