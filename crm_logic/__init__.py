"""The domain library of the customer-relationship workbench: no UI in here, usable from any script."""
