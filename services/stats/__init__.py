"""The stats consumer and the transaction-volume figures: deal rollups kept from the event stream, the
`/api/v1/stats/` views, plan indicators with their targets, exports, and `stats_recompute`."""
