"""Exception grouping: the same bug groups together, different bugs stay apart."""
# ruff: noqa: E501  (the tracebacks are quoted as programs print them)

from __future__ import annotations

from roost.domain.fingerprint import fingerprint

PY_KEYERROR_A = """Traceback (most recent call last):
  File "/srv/app/releases/41/etl/run.py", line 88, in main
    load(rows)
  File "/srv/app/releases/41/etl/load.py", line 12, in load
    target = mapping[row["kind"]]
             ~~~~~~~^^^^^^^^^^^^^
KeyError: 'invoice'
"""

# Same bug after a deploy: other release folder, lines moved, other key in the message.
PY_KEYERROR_B = """Traceback (most recent call last):
  File "/srv/app/releases/42/etl/run.py", line 91, in main
    load(rows)
  File "/srv/app/releases/42/etl/load.py", line 15, in load
    target = mapping[row["kind"]]
KeyError: 'refund'
"""

# The same function failing differently.
PY_TYPEERROR = """Traceback (most recent call last):
  File "/srv/app/releases/42/etl/run.py", line 91, in main
    load(rows)
  File "/srv/app/releases/42/etl/load.py", line 15, in load
    target = mapping[row["kind"]]
TypeError: 'NoneType' object is not subscriptable
"""

# The same exception type raised from another place.
PY_KEYERROR_ELSEWHERE = """Traceback (most recent call last):
  File "/srv/app/releases/42/etl/run.py", line 91, in main
    report(rows)
  File "/srv/app/releases/42/etl/report.py", line 30, in report
    total = sums[key]
KeyError: 'invoice'
"""

PY_SITE_PACKAGES_A = """Traceback (most recent call last):
  File "/home/ci/.venv/lib/python3.11/site-packages/requests/api.py", line 59, in request
    return session.request(method=method, url=url, **kwargs)
  File "/home/ci/.venv/lib/python3.11/site-packages/requests/adapters.py", line 519, in send
    raise ConnectionError(e, request=request)
requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded (Caused by <urllib3.connection.HTTPSConnection object at 0x7f3a2c1d5e50>)
"""

# The same library failure on another machine: other interpreter path, object address, port.
PY_SITE_PACKAGES_B = """Traceback (most recent call last):
  File "/usr/local/lib/python3.12/dist-packages/requests/api.py", line 61, in request
    return session.request(method=method, url=url, **kwargs)
  File "/usr/local/lib/python3.12/dist-packages/requests/adapters.py", line 700, in send
    raise ConnectionError(e, request=request)
requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.example.com', port=8443): Max retries exceeded (Caused by <urllib3.connection.HTTPSConnection object at 0x7f99aa001122>)
"""

PY_CHAINED = """Traceback (most recent call last):
  File "/app/db.py", line 10, in fetch
    return cursor.execute(sql)
sqlite3.OperationalError: database is locked

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/job.py", line 5, in main
    fetch()
  File "/app/db.py", line 12, in fetch
    raise StorageError("could not read orders 1234")
app.errors.StorageError: could not read orders 1234
"""

JS_A = """TypeError: Cannot read properties of undefined (reading 'id')
    at getUser (/srv/web/build-7f3a9c/src/users.js:42:17)
    at async handle (/srv/web/build-7f3a9c/src/routes.js:10:5)
    at Layer.handle [as handle_request] (/srv/web/node_modules/express/lib/router/layer.js:95:5)
"""

JS_B = """TypeError: Cannot read properties of undefined (reading 'id')
    at getUser (/srv/web/build-91bb02/src/users.js:47:9)
    at async handle (/srv/web/build-91bb02/src/routes.js:11:5)
    at Layer.handle [as handle_request] (/opt/web/node_modules/express/lib/router/layer.js:95:5)
"""

JS_FIREFOX = """getUser@https://cdn.example.com/app.js?v=812:1:9921
handle@https://cdn.example.com/app.js?v=812:1:12002
"""

JAVA_A = """java.lang.IllegalStateException: Order 88123 is already closed
\tat com.acme.orders.OrderService.close(OrderService.java:142)
\tat com.acme.orders.OrderController.lambda$close$3(OrderController.java:57)
\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)
"""

JAVA_B = """Exception in thread "pool-1-thread-7" java.lang.IllegalStateException: Order 90001 is already closed
\tat com.acme.orders.OrderService.close(OrderService.java:150)
\tat com.acme.orders.OrderController.lambda$close$3(OrderController.java:60)
\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1144)
Caused by: java.sql.SQLException: connection reset
\tat org.postgresql.Driver.connect(Driver.java:1)
\t... 3 more
"""

JAVA_NPE = """java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null
\tat com.acme.orders.OrderService.close(OrderService.java:142)
\tat com.acme.orders.OrderController.lambda$close$3(OrderController.java:57)
"""


def same(a: str, b: str) -> bool:
    return fingerprint(a).hash == fingerprint(b).hash


def test_the_same_python_bug_at_other_lines_and_releases_is_one_group() -> None:
    assert same(PY_KEYERROR_A, PY_KEYERROR_B)


def test_a_different_exception_type_in_the_same_place_is_another_group() -> None:
    assert not same(PY_KEYERROR_B, PY_TYPEERROR)


def test_the_same_exception_type_raised_elsewhere_is_another_group() -> None:
    assert not same(PY_KEYERROR_B, PY_KEYERROR_ELSEWHERE)


def test_install_paths_and_addresses_do_not_split_a_group() -> None:
    assert same(PY_SITE_PACKAGES_A, PY_SITE_PACKAGES_B)


def test_a_chained_traceback_is_grouped_by_the_exception_that_escaped() -> None:
    found = fingerprint(PY_CHAINED)
    assert found.type == "app.errors.StorageError"
    assert found.message == "could not read orders 1234"
    assert found.frames == ("app/db.py:fetch", "app/job.py:main")


def test_python_type_message_and_frames_are_extracted_innermost_first() -> None:
    found = fingerprint(PY_KEYERROR_A)
    assert (found.type, found.message) == ("KeyError", "'invoice'")
    assert found.frames == ("etl/load.py:load", "etl/run.py:main")


def test_the_same_javascript_bug_in_another_build_is_one_group() -> None:
    assert same(JS_A, JS_B)
    assert fingerprint(JS_A).type == "TypeError"


def test_firefox_style_javascript_stacks_are_parsed() -> None:
    found = fingerprint(JS_FIREFOX)
    assert found.frames == ("cdn.example.com/app.js:getUser", "cdn.example.com/app.js:handle")


def test_the_same_java_bug_with_other_ids_lines_and_threads_is_one_group() -> None:
    assert same(JAVA_A, JAVA_B)
    found = fingerprint(JAVA_B)
    assert found.type == "java.lang.IllegalStateException"
    assert found.message == "Order 90001 is already closed"


def test_a_different_java_exception_in_the_same_place_is_another_group() -> None:
    assert not same(JAVA_A, JAVA_NPE)


def test_languages_never_collide() -> None:
    hashes = {fingerprint(text).hash for text in (PY_KEYERROR_A, JS_A, JAVA_A, JS_FIREFOX)}
    assert len(hashes) == 4


def test_without_a_stack_the_message_is_normalised_numbers_and_ids_aside() -> None:
    assert same(
        "TimeoutError: job 1234 timed out after 30s", "TimeoutError: job 99 timed out after 45s"
    )
    assert not same("TimeoutError: job 1 timed out", "TimeoutError: disk full")
    assert same(
        "failed for user 3f2b1c9e-8a7d-4e6f-9b0a-1c2d3e4f5a6b",
        "failed for user 0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
    )


def test_the_scope_separates_the_same_text_from_two_processes() -> None:
    assert fingerprint(JS_A, scope="web").hash != fingerprint(JS_A, scope="worker").hash


def test_empty_and_odd_text_never_fails() -> None:
    for text in ("", "\n\n", "Traceback (most recent call last):\n", "\x00\x01", "at at at"):
        assert len(fingerprint(text).hash) == 64
