"""MongoDB access for the planning service's collections (every call carries the tenant)."""
