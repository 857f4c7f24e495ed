"""Use cases. The only callers of storage; every function takes the tenant (project)."""
