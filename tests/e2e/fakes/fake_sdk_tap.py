"""A Singer SDK tap (run by a venv's python that has singer-sdk from PyPI) with the SDK's
`structured-logging` capability: one stream `things` of three records.  It logs through the SDK's
logging (so SINGER_SDK_LOG_CONFIG decides the format): an info line with a stream name, a warning
with extra fields, a line quoting its password (a careless tap), and writes two lines of its own
straight to stderr: a plain one and a broken JSON one (never lost by whoever reads its stderr).
With $SDKFAKE_DUMP set it first copies the logging configuration SINGER_SDK_LOG_CONFIG names to
$SDKFAKE_DUMP/sdk_log_config.json (the file is removed after the run)."""
import os
import shutil
import sys
import typing as t

if os.environ.get("SDKFAKE_DUMP") and os.path.isfile(os.environ.get("SINGER_SDK_LOG_CONFIG", "")):
    shutil.copyfile(os.environ["SINGER_SDK_LOG_CONFIG"], os.path.join(os.environ["SDKFAKE_DUMP"], "sdk_log_config.json"))

from singer_sdk import Stream, Tap
from singer_sdk import typing as th


class Things(Stream):
    name = "things"
    primary_keys = ("id",)
    schema = th.PropertiesList(th.Property("id", th.IntegerType), th.Property("v", th.StringType)).to_dict()

    def get_records(self, context: t.Optional[dict]) -> t.Iterable[dict]:
        self.logger.info("fake-sdk-tap: reading things")
        for i in range(1, 4):
            yield {"id": i, "v": f"v{i}"}


class FakeSdkTap(Tap):
    name = "tap-sdkfake"
    config_jsonschema = th.PropertiesList(th.Property("password", th.StringType, secret=True)).to_dict()

    def discover_streams(self):
        return [Things(self)]

    def sync_all(self):
        self.logger.warning("fake-sdk-tap: slow source", extra={"rows_per_s": 12, "region": "eu"})
        self.logger.info("fake-sdk-tap: connecting with password %s", self.config.get("password"))
        sys.stderr.write("fake-sdk-tap plain text line\n")
        sys.stderr.write('{"level": "error", "message": "fake-sdk-tap: broken json\n')
        sys.stderr.flush()
        super().sync_all()


if __name__ == "__main__":
    FakeSdkTap.cli()
