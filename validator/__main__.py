import gc

gc.disable()  # during the start-up's imports: see validator.cli._load_library

from .cli import run  # noqa: E402

run()
