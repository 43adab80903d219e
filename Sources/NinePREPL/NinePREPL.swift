// NinePREPL
