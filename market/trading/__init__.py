"""Trading: auctions and bids, negotiated offers, demand proposals (揭榜), deals and contract registration."""
