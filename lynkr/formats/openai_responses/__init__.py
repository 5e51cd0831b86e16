"""The OpenAI Responses dialect (client side: ``POST /v1/responses``), sans-I/O.

``ingress`` turns a request body into a canonical Request plus what only matters when
answering; ``egress`` renders canonical events as Responses SSE and whole response objects.
"""
