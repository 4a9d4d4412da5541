"""The shop as gunicorn serves it, plus one constant route for the load bench (bench/load_bench.py).

`/bench/constant` answers a fixed text through the same app and middleware (request
log, database connection per request, security headers), so its throughput is the
framework's ceiling on this machine. Only the bench serves this module.
"""

from shop import create_app


def create_bench_app():
    app = create_app()

    @app.get("/bench/constant")
    def constant():
        return "ok"

    return app
