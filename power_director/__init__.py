"""wattbench power director: owns the wattmeters, samples them, serves the measurement protocol."""
