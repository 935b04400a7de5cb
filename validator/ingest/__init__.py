"""Reading returns (CSV, Excel, XML) into typed tables, with findings for what cannot be read."""
