"""The console's web plumbing: the sealed cookie, CSRF, security headers, the signed-in person,
error pages and forms. Pages (pages/) use it; it knows nothing of any page."""
