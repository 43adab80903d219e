// NinePDrivers
