// NinePTestSupport
