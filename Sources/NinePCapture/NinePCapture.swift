// NinePCapture
