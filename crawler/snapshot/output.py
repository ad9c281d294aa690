"""The snapshot file being written: small writes buffered, large copies from the spill files
done by the kernel (``copy_file_range``) where it can, through memory where it cannot."""

from __future__ import annotations

import errno
import os

__all__ = ["Output"]

_SMALL_COPY = 64 * 1024  # a copy below this goes through the output buffer
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EPERM}


class Output:
    """The snapshot file being written: small writes buffered, large copies in the kernel."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.kernel_copy = hasattr(os, "copy_file_range")

    def write(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= 1024 * 1024:
            self.flush()

    def flush(self) -> None:
        done = 0
        with memoryview(self.buffer) as view:
            while done < len(view):
                with view[done:] as rest:
                    done += os.write(self.fd, rest)
        self.buffer.clear()

    def copy(self, source: int, offset: int, length: int) -> None:
        """Append ``length`` bytes of ``source`` from ``offset``."""
        if length < _SMALL_COPY:
            self.write(os.pread(source, length, offset))
            return
        self.flush()
        while length > 0 and self.kernel_copy:
            try:
                done = os.copy_file_range(source, self.fd, length, offset)
            except OSError as exc:
                if exc.errno not in _NO_KERNEL_COPY:
                    raise
                self.kernel_copy = False  # e.g. across file systems: copy through memory
                break
            if done == 0:
                raise OSError(errno.EIO, "the spill file ended early")
            offset += done
            length -= done
        while length > 0:
            chunk = os.pread(source, min(length, 1024 * 1024), offset)
            if not chunk:
                raise OSError(errno.EIO, "the spill file ended early")
            self.write(chunk)
            offset += len(chunk)
            length -= len(chunk)
