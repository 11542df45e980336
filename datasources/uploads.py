"""Uploads go to a temporary file on disk, never into memory, and stop at the size limit."""

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler


def max_upload_bytes() -> int:
    return settings.MAX_UPLOAD_MB * 1024 * 1024


class SizeLimitedUploadHandler(TemporaryFileUploadHandler):
    """Skips a file once it passes MAX_UPLOAD_MB and notes its name, so the view can say which."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_upload_bytes():
            self.file.close()
            oversized = getattr(self.request, "oversized_uploads", [])
            oversized.append(self.file_name)
            self.request.oversized_uploads = oversized
            raise SkipFile
        return super().receive_data_chunk(raw_data, start)
