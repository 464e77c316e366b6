"""`<array field>__any_startswith=H01M`: true when any element starts with the value. IPC filters use it so
`H01M` finds `H01M 4/525` without unnesting in Python."""

from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db.models import Lookup


@ArrayField.register_lookup
class AnyStartsWith(Lookup):
    lookup_name = "any_startswith"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return "%s", [escaped + "%"]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return (
            f"EXISTS (SELECT 1 FROM unnest({lhs}) AS element WHERE element LIKE {rhs})",
            [*lhs_params, *rhs_params],
        )
