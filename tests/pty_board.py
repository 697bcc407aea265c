# SPDX-License-Identifier: MIT
"""The unix port of MicroPython behind a pseudo-terminal, as a stand-in for a board on a serial
port: tests open `board.port` with pyserial exactly as they would open /dev/ttyACM0.

Two pty pairs joined by a relay thread (what `socat PTY,link=... PTY` does):

    pyserial -- slave B | master B <-relay-> master A | slave A -- micropython (stdin/stdout)

micropython runs its REPL only when stdin is a terminal, and turns Ctrl-C into
KeyboardInterrupt through SIGINT, so slave A is its controlling terminal (own session). The
host cannot open a pty master by path, hence the second pair; the relay keeps one fd of
slave B open (in raw mode) so the pair survives pyserial closing and reopening it.
"""

import fcntl
import os
import pty
import select
import signal
import subprocess
import termios
import threading
import time
import tty
from pathlib import Path


def _own_terminal():
    # In the child, after setsid: make stdin (slave A) the controlling terminal.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyBoard:
    """micropython (unix port) in `cwd`, reachable through the serial device path `port`."""

    def __init__(self, micropython, cwd, *, startup_timeout: float = 10.0, env=None):
        self._fds = []
        self.proc = None
        self._relay = None
        self.bytes_to_board = 0
        self.bytes_from_board = 0
        try:
            self._start(micropython, cwd, startup_timeout, env)
        except BaseException:
            self.close()
            raise

    def _start(self, micropython, cwd, startup_timeout, env):
        board_master, board_slave = pty.openpty()
        host_master, host_slave = pty.openpty()
        self._fds += [board_master, host_master, host_slave]
        tty.setraw(host_slave)  # no echo or line editing before pyserial configures it
        # A board's UART sends its "\r\n" as is; a pty's line discipline would turn it into
        # "\r\r\n" (ONLCR), which mpremote's raw-REPL client does not expect.
        attrs = termios.tcgetattr(board_slave)
        attrs[1] &= ~termios.ONLCR
        termios.tcsetattr(board_slave, termios.TCSANOW, attrs)
        self.port = os.ttyname(host_slave)
        self._board, self._host = board_master, host_master
        try:
            self.proc = subprocess.Popen(
                [str(Path(micropython).resolve())],
                stdin=board_slave, stdout=board_slave, stderr=board_slave, cwd=str(cwd),
                # preexec_fn runs before the relay thread exists (no other thread of ours).
                env=env, start_new_session=True, preexec_fn=_own_terminal,  # noqa: PLW1509
            )
        finally:
            os.close(board_slave)
        # Wait for the friendly prompt: before it the terminal is not yet in raw mode, and a
        # Ctrl-C would be a SIGINT that kills the interpreter during start-up.
        self.banner = self._read_board_until(b">>> ", startup_timeout)
        for fd in (board_master, host_master):
            os.set_blocking(fd, False)
        self._wake_r, self._wake_w = os.pipe()
        self._fds += [self._wake_r, self._wake_w]
        self._relay = threading.Thread(target=self._relay_loop, name="pty-relay", daemon=True)
        self._relay.start()

    def _read_board_until(self, marker: bytes, timeout: float) -> bytes:
        seen = b""
        deadline = time.monotonic() + timeout
        while marker not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError(f"micropython did not show its prompt within {timeout} s "
                                   f"(exit status {self.proc.poll()}); output: {seen!r}")
            if select.select([self._board], [], [], min(left, 0.1))[0]:
                try:
                    seen += os.read(self._board, 4096)
                except OSError:  # EIO: the child closed its terminal
                    continue
        return seen

    def _relay_loop(self):
        to_board, to_host = bytearray(), bytearray()
        board_open = True
        while True:
            rlist = [self._wake_r]
            if board_open and len(to_host) < 1 << 16:
                rlist.append(self._board)
            if len(to_board) < 1 << 16:
                rlist.append(self._host)
            wlist = ([self._board] if to_board and board_open else []) + \
                    ([self._host] if to_host else [])
            readable, writable, _ = select.select(rlist, wlist, [])
            if self._wake_r in readable:
                return
            for fd, buf in ((self._board, to_board), (self._host, to_host)):
                if fd in writable:
                    try:
                        del buf[: os.write(fd, buf)]
                    except BlockingIOError:
                        pass
                    except OSError:  # only the board side can go away (we hold host_slave)
                        board_open = False
                        to_board.clear()
            if self._board in readable:
                try:
                    data = os.read(self._board, 65536)
                    self.bytes_from_board += len(data)
                    to_host += data
                except BlockingIOError:
                    pass
                except OSError:  # EIO: micropython exited; the host side just hears nothing
                    board_open = False
            if self._host in readable:
                try:
                    data = os.read(self._host, 65536)
                    self.bytes_to_board += len(data)
                    to_board += data
                except (BlockingIOError, OSError):
                    pass

    def stop(self):
        """Freeze the interpreter (SIGSTOP): a board that hangs and answers nothing."""
        self.proc.send_signal(signal.SIGSTOP)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL also ends a stopped process
        if self.proc is not None:
            self.proc.wait(timeout=10)
        if self._relay is not None:
            os.write(self._wake_w, b"x")
            self._relay.join(timeout=5)
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
