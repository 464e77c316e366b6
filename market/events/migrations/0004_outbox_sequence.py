"""Relay order by a database sequence instead of `created_at` (each web process's clock): the sequence first,
then the column that takes its default from it; rows already in the outbox are numbered in their old order
(`created_at`, `id`), so unsent ones still leave as they would have, and the sequence goes on after them.
The sequence belongs to the column, so dropping the column (reversing) drops it too."""

import market.events.models
from django.db import migrations, models

SEQUENCE = "events_outboxevent_sequence_seq"
NUMBER_EXISTING_ROWS = f"""
UPDATE events_outboxevent outbox SET sequence = ordered.position
FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS position FROM events_outboxevent) ordered
WHERE outbox.id = ordered.id;
SELECT setval('{SEQUENCE}', coalesce((SELECT max(sequence) FROM events_outboxevent), 0) + 1, false);
ALTER SEQUENCE {SEQUENCE} OWNED BY events_outboxevent.sequence;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0003_outbox_set_aside'),
    ]

    operations = [
        migrations.RunSQL(f"CREATE SEQUENCE {SEQUENCE}", f"DROP SEQUENCE IF EXISTS {SEQUENCE}"),
        migrations.RemoveIndex(
            model_name='outboxevent',
            name='outbox_unsent_idx',
        ),
        migrations.RemoveIndex(
            model_name='outboxevent',
            name='outbox_unsent_key_idx',
        ),
        migrations.RemoveIndex(
            model_name='outboxevent',
            name='outbox_set_aside_key_idx',
        ),
        migrations.AddField(
            model_name='outboxevent',
            name='sequence',
            field=models.BigIntegerField(db_default=market.events.models.NextValue(models.Value('events_outboxevent_sequence_seq')), editable=False, verbose_name='sequence'),
        ),
        migrations.RunSQL(NUMBER_EXISTING_ROWS, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name='outboxevent',
            index=models.Index(condition=models.Q(('sent_at__isnull', True)), fields=['sequence'], name='outbox_unsent_idx'),
        ),
        migrations.AddIndex(
            model_name='outboxevent',
            index=models.Index(condition=models.Q(('sent_at__isnull', True)), fields=['key', 'sequence'], name='outbox_unsent_key_idx'),
        ),
        migrations.AddIndex(
            model_name='outboxevent',
            index=models.Index(condition=models.Q(('sent_at__isnull', True), ('set_aside_at__isnull', False)), fields=['key', 'sequence'], name='outbox_set_aside_key_idx'),
        ),
    ]
