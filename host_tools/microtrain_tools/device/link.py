# SPDX-License-Identifier: MIT
"""The link to a board: mpremote's SerialTransport (its raw REPL, raw-paste mode, file calls)
with what `deploy` and `learn --port` need on top of it.

What this adds to mpremote's transport:
- every wait is bounded by the call's timeout (mpremote waits forever on a serial port opened
  without a timeout, and 10 s between characters in places), and a board that stops reading
  gives a write timeout instead of a hang;
- errors name the port, what was awaited, the last bytes received and the command that failed;
  a timed-out program is interrupted (Ctrl-C) and the raw REPL re-entered, or, when the board
  does not answer that either, the link refuses further use;
- files are written to `path + ".part"` in base64 chunks (a third of the bytes on the wire of
  mpremote's repr() chunks for binary data), checked (size and, where the board has
  binascii.crc32, the CRC) and only then renamed to `path`, so an interrupted copy never leaves
  a half file under the real name.
"""

import ast
import base64
import contextlib
import io
import posixpath
import struct
import time
import zlib
from dataclasses import dataclass

import serial
from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

from ..errors import MicrotrainError

PART_SUFFIX = ".part"
DEFAULT_CHUNK = 2048  # raw bytes per write; the board holds ~3x this while decoding
ST_DIR = 0x4000

# mpremote's TransportError messages (transport_serial.py), as what was being waited for.
_AWAITED = [
    ("first EOF", "the end of the program's output"),
    ("second EOF", "the end of the error output"),
    ("could not enter raw repl", "the raw REPL banner or prompt"),
    ("during raw paste", "raw-paste flow control"),
    ("could not complete raw paste", "the end of the raw-paste transfer"),
    ("could not exec command", "'OK' after the code"),
]


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


class _BoundedTransport(SerialTransport):
    """mpremote's serial transport, every wait of it bounded by `wait_limit` seconds and the
    bytes of the last wait kept for error messages."""

    wait_limit = 10.0
    last_received = b""

    def read_until(self, min_num_bytes, ending, timeout=10, data_consumer=None,
                   timeout_overall=None):
        data = super().read_until(min_num_bytes, ending, self.wait_limit, data_consumer,
                                  min(timeout_overall or self.wait_limit, self.wait_limit))
        self.last_received = data
        return data


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").replace("\r\n", "\n")


def _lit(value: str) -> str:
    """A Python string literal for device code (repr is valid MicroPython source)."""
    return repr(str(value))


def _summary(code: str) -> str:
    first = code.strip().splitlines()[0] if code.strip() else ""
    return first if len(first) <= 60 else first[:57] + "..."


class DeviceLink:
    """A board's raw REPL through mpremote's SerialTransport. Use `connect(port)`."""

    def __init__(self, transport: _BoundedTransport, name: str):
        self.transport = transport
        self.name = name
        self._broken: str | None = None

    # -- one bounded call, its errors in our words --------------------------------------------

    def _call(self, what: str, timeout: float, fn):
        """Run fn() (transport calls) with every wait bounded by timeout; mpremote's and
        pyserial's errors become MicrotrainErrors naming the port and `what`."""
        if self._broken:
            raise MicrotrainError(f"{self.name}: connection unusable: {self._broken}")
        t = self.transport
        t.wait_limit = timeout
        t.serial.timeout = timeout
        t.serial.write_timeout = timeout
        t.last_received = b""
        said = io.StringIO()  # mpremote prints what it got when it cannot enter the raw REPL
        try:
            with contextlib.redirect_stdout(said):
                return fn()
        except serial.SerialTimeoutException:
            raise self._timeout("the board to take the bytes sent to it", timeout, what) from None
        except serial.SerialException as err:  # unplugged, closed
            self._broken = f"the serial port failed ({err})"
            raise MicrotrainError(f"{self.name}: serial port failed: {err}") from None
        except TransportExecError as err:  # an exception on the board
            raise self._device_error(err.error_output, what) from None
        except OSError as err:  # mpremote's fs_* calls turn a board's OSError into one
            raise DeviceError(f"{self.name}: the board raised OSError {err} while running "
                              f"{what}", str(err)) from None
        except (TransportError, struct.error) as err:  # struct: a short raw-paste header
            message = str(err) if isinstance(err, TransportError) else "raw-paste window"
            awaited = next((a for key, a in _AWAITED if key in message), message)
            raise self._timeout(awaited, timeout, what, message) from None

    def _timeout(self, awaited: str, timeout: float, what: str,
                 mpremote_says: str = "") -> TransportTimeout:
        tail = self.transport.last_received[-80:]
        got = f"last bytes received: {tail!r}" if tail else "nothing was received"
        told = f" (mpremote: {mpremote_says})" if mpremote_says and mpremote_says != awaited else ""
        return TransportTimeout(f"{self.name}: no answer within {timeout:g} s while waiting for "
                                f"{awaited}; {got}; running: {what!r}{told}")

    def _device_error(self, err: str, what: str) -> DeviceError:
        err = _text(err.encode() if isinstance(err, str) else err)
        last = err.strip().splitlines()[-1] if err.strip() else err
        return DeviceError(f"{self.name}: the board raised {last}\nwhile running {what!r}; its "
                           f"traceback:\n{err.rstrip()}", err)

    # -- REPL modes ---------------------------------------------------------------------------

    def enter(self, timeout: float = 5.0) -> None:
        """Stop whatever runs (Ctrl-C) and enter the raw REPL."""
        self._settle(min(timeout, 0.5))
        self._call("entering the raw REPL", timeout,
                   lambda: self.transport.enter_raw_repl(soft_reset=False,
                                                         timeout_overall=timeout))

    def _settle(self, longest: float) -> None:
        # Let a program that is just finishing end first: the unix port dies of a Ctrl-C that
        # lands between the end of a program and its terminal's return to raw mode. A program
        # that keeps printing is not waited for long.
        port, end = self.transport.serial, time.monotonic() + longest
        try:
            port.timeout = 0.1
            while port.read(4096) and time.monotonic() < end:
                pass
        except serial.SerialException as err:
            raise MicrotrainError(f"{self.name}: serial port failed: {err}") from None

    def interrupt(self, timeout: float = 2.0) -> bool:
        """Ctrl-C a running program and get back to the raw prompt; False if the board stays
        silent (the link is then marked unusable)."""
        try:
            self._call("Ctrl-C", timeout, lambda: self.transport.enter_raw_repl(
                soft_reset=False, timeout_overall=timeout))
            return True
        except MicrotrainError:
            self._broken = "the board did not answer Ctrl-C after a timeout; reset it"
            return False

    def soft_reset(self, timeout: float = 10.0) -> None:
        """The board restarts its interpreter (boot.py runs, modules are imported afresh) and
        comes back in the raw REPL. The unix port exits instead."""
        try:
            self._call("soft reset", timeout, lambda: self.transport.enter_raw_repl(
                soft_reset=True, timeout_overall=timeout))
        except TransportTimeout as err:
            self._broken = "the board did not come back after a soft reset"
            raise TransportTimeout(f"{err} (the board did not come back after the soft "
                                   "reset)") from None

    def close(self) -> None:
        if not self._broken:
            with contextlib.suppress(OSError):  # best effort: back to the friendly REPL
                self.transport.serial.write_timeout = 1.0
                self.transport.exit_raw_repl()
        with contextlib.suppress(OSError):  # a failed port must not hide the first error
            self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- running code -------------------------------------------------------------------------

    def exec_raw(self, code: str, timeout: float = 10.0) -> tuple[str, str]:
        """Run code; return (stdout, stderr) as text. timeout bounds every wait (for the
        board to take the code, and each silence in its output); when it passes the program is
        interrupted."""
        what = _summary(code)
        try:
            out, err = self._call(what, timeout, lambda: self.transport.exec_raw(code, timeout))
        except TransportTimeout as late:
            if self._broken:
                raise
            recovered = self.interrupt()
            how = ("it was interrupted (Ctrl-C) and the raw REPL is ready again" if recovered
                   else "it did not answer Ctrl-C either: reset the board")
            raise TransportTimeout(f"{late}; {how}") from None
        return _text(out), _text(err)

    def exec(self, code: str, timeout: float = 10.0) -> str:
        """Run code; return its stdout. An exception on the board raises DeviceError."""
        out, err = self.exec_raw(code, timeout)
        if err:
            raise self._device_error(err, _summary(code))
        return out

    def eval(self, expr: str, timeout: float = 10.0):
        """The value of a Python expression on the board (its repr read back as a literal)."""
        out = self.exec(f"print(repr({expr}))", timeout)
        try:
            return ast.literal_eval(out.strip())
        except (ValueError, SyntaxError):
            raise MicrotrainError(f"{self.name}: cannot read back the value of {expr!r}: "
                                  f"{out.strip()!r}") from None

    # -- files --------------------------------------------------------------------------------

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
        """Read a file from the board (mpremote's fs_readfile)."""
        return bytes(self._call(f"reading {remote}", timeout, lambda: self.transport.fs_readfile(
            remote, chunk_size=chunk_size)))

    def list_files(self, remote: str = "", timeout: float = 30.0) -> dict[str, int]:
        """Every file under `remote` (recursively): path relative to it -> size in bytes.
        One exec for the whole tree (mpremote's fs_listdir takes one per folder)."""
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
        self._call(f"removing {remote}", timeout, lambda: self.transport.fs_rmfile(remote))


def connect(port: str, baud: int = 115200, *, raw_paste: bool | None = None,
            timeout: float = 5.0) -> DeviceLink:
    """Open a serial port (a device path or a pyserial URL) with mpremote's transport and enter
    the board's raw REPL. raw_paste=False never uses raw-paste mode (mpremote then writes the
    code in 256-byte blocks, 10 ms apart)."""
    try:
        transport = _BoundedTransport(port, baudrate=baud, timeout=timeout)
    except (TransportError, serial.SerialException, OSError, ValueError) as err:
        raise MicrotrainError(f"cannot open serial port {port}: {err} (is the board plugged "
                              "in, and no other program using the port?)") from None
    if raw_paste is False:
        transport.use_raw_paste = False
    link = DeviceLink(transport, port)
    try:
        link.enter(timeout)
    except BaseException:
        link.close()
        raise
    return link


def remote_join(*parts: str) -> str:
    return posixpath.join(*[p for p in parts if p])
