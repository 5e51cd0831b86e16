"""The HTTP server: Starlette routes compiled once, served by hypercorn on trio."""
