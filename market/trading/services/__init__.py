"""Writes for trading, one module per aggregate: auctions, offers, purchases at the listed price (挂牌),
proposals (揭榜) and deals; `availability` keeps what a listing's deals and auctions leave of it.

Every function is one transaction that locks what it changes, checks who may act, and publishes each fact it
creates through the outbox; permission checks live here so no caller can skip them.

Concurrency: everything that happens to one auction (sign-ups, bids, closing) runs under a row lock of the
auction, so bids are strictly ordered and closing (or cancelling) happens once; a deal's stage changes lock
the deal; offers and proposals lock their own row (proposal acceptance also locks the demand, so a demand
accepts one, and a submission reads the demand under that lock, so none slips in while the demand is being
solved). Whatever commits a patent or an achievement to a buyer (an auction, a deal) first claims the listing
under its row lock, so the first valid acceptance wins (`availability`).
Unique constraints back every "only once" rule, so a second deal for the same auction cannot be stored even
if the locks were bypassed."""
