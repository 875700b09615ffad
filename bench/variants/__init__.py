"""Settings for `python -m bench transfers --variant ...`: the project's settings with one
speed-up bought off the framework's path switched back to the framework's own class, to
measure what the speed-up is worth (README, "Speed bought off the framework's path")."""
