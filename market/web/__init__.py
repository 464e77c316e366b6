"""The web site: server-rendered pages for the people who use the market, on the same selectors and services
as the API. Views parse a form, call a selector or a service and render; they hold no business rules."""
