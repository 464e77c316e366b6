"""`manage.py dead_letters list|replay --topic market.patents`: inspect dead letters, or re-publish them to
their original topic after the cause was fixed."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from services.common.dead_letters import dead_letters_read, dead_letters_replay


class Command(BaseCommand):
    help = "List or replay the dead letters of a topic."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "replay"])
        parser.add_argument("--topic", required=True, help="the original topic, e.g. market.patents")

    def handle(self, *args: Any, action: str, topic: str, **options: Any) -> None:
        if action == "replay":
            self.stdout.write(f"replayed {dead_letters_replay(topic=topic)} dead letters to {topic}")
            return
        count = 0
        for _consumer, letter in dead_letters_read(topic=topic):
            count += 1
            self.stdout.write(
                f"{letter.dlq_topic}[{letter.dlq_partition}]@{letter.dlq_offset}  from "
                f"{letter.original_topic}[{letter.original_partition}]@{letter.original_offset}  "
                f"consumer={letter.consumer}  error={letter.error}"
            )
        self.stdout.write(f"{count} dead letters")
