"""MongoDB access for the notifications service's own collections (never another service's)."""
