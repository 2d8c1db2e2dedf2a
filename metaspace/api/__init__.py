"""The local control API: the contract, the Starlette app, its OpenAPI document, the client, the web page."""
