"""Every write the portal makes. Admin views, API views and commands call these and nothing
else, so the same operation reached three ways runs the same code."""
