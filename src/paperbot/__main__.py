from paperbot.cli import entry_point

entry_point()
