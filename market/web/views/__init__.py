"""The site's views, one module per kind of visitor's work: `public` (home, search, listing pages) and
`account` (sign-in)."""
