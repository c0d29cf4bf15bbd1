"""Clock labels in Molmo's `clocks` style: the answer text and the question templates."""

CLOCKS_STYLE = "clocks"

# What a user might ask about a clock; the pipeline samples one per row, the trainer may resample.
CLOCK_QUESTIONS: list[str] = [
    "What time is it?",
    "What time is shown on the clock?",
    "What time does the watch show?",
    "What is the time on this clock face?",
    "Read the time on the watch.",
    "Tell me the time displayed.",
    "What time does this clock read?",
    "Can you read the time on this watch?",
    "What time is it according to the clock?",
    "Look at the watch. What time is it?",
    "What is the current time shown here?",
    "Please tell me what time the clock shows.",
]


def twelve_hour(hour: int) -> tuple[int, str]:
    """24 h hour -> (1..12, "AM"/"PM")."""
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be 0-23, got {hour}")
    return (hour % 12) or 12, ("AM" if hour < 12 else "PM")


def clock_time_text(hour: int, minute: int) -> str:
    """Molmo's clock answer, e.g. `The time shown is 3:02 PM` for 15:02."""
    if not 0 <= minute <= 59:
        raise ValueError(f"minute must be 0-59, got {minute}")
    h12, meridiem = twelve_hour(hour)
    return f"The time shown is {h12}:{minute:02d} {meridiem}"


def watch_time(hour: int, minute: int, second: int) -> str:
    """The 24 h `HH:MM:SS` string stored in the watch_time column."""
    return f"{hour:02d}:{minute:02d}:{second:02d}"
