"""The site's views, one module per kind of visitor's work:

- `public`: home, search, the listing and expert pages, public notices, "save this search";
- `account`: session sign-in and sign-out;
- `supply`: a university's or institute's listings, NDA signers, offers, proposals, opening an auction;
- `demand`: an enterprise's demands and the proposals they received;
- `auctions`, `offers`: the auction room and the negotiations;
- `deals`: the deal room and the registration queue;
- `review`: the administrators' review of listings and organizations;
- `dashboard`: the transaction-volume statistics;
- `inbox`: notifications, subscriptions and delivery settings."""
