"""Every table, in SQLAlchemy Core. Migrations under ``migrations/`` must produce exactly this.

Every primary key starts with ``project_id`` so the data can later be distributed by project,
and no query can forget the tenant. Times are integers: unix milliseconds, UTC.
Ids are global (unique across projects) and come from ``dialects.next_id``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite has no sequences: one counter row per id-bearing table, bumped inside the writing
# transaction (SQLite serialises writers, so two transactions can never draw the same id).
id_counters = Table(
    "id_counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    # Ids come from dialects.next_id, never from a SERIAL the database would add on its own.
    Column("id", BigInteger, nullable=False, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("name"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    # The first characters of the key, so people can tell their keys apart; never the key.
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("scopes", String(100), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    # Authentication looks a key up by its hash before the project is known.
    UniqueConstraint("key_hash"),
)

series = Table(
    "series",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    # Canonical JSON of the labels ("" when none), so (name, labels) is unique.
    Column("labels_key", String(1000), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_ts", BigInteger, nullable=True),
    Column("last_value", Float, nullable=True),
    # StatHat's per-stat key for the classic /c and /v API: random, imported, or the unknown
    # key that created the stat. Unique within a project (NULLs aside).
    Column("classic_key", String(255), nullable=True),
    Index(None, "project_id", "classic_key", unique=True),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    UniqueConstraint("project_id", "name", "labels_key"),
)

# Raw points: an append-only log. Two points may share an instant (two increments in the same
# millisecond are both real), so there is no unique key, only the index queries use.
points = Table(
    "points",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("series_id", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("value", Float, nullable=False),
    Index(None, "project_id", "series_id", "ts"),
)

# Roll-ups at 1 minute, 1 hour and 1 day (tier = bucket width in milliseconds), kept up to date in
# the same transaction as the raw points, so queries read few rows whatever the point count.
rollups = Table(
    "rollups",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("series_id", BigInteger, nullable=False),
    Column("tier", Integer, nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("sum", Float, nullable=False),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    PrimaryKeyConstraint("project_id", "series_id", "tier", "bucket"),
    # Clustered by the key on SQLite: a range query reads neighbouring pages only.
    sqlite_with_rowid=False,
)

# Named *_table: a module-level "annotations" would shadow `from __future__ import annotations`.
annotations_table = Table(
    "annotations",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    Index(None, "project_id", "ts"),
)

# Which series an annotation is pinned to; an annotation without rows here is project-wide.
annotation_series = Table(
    "annotation_series",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("annotation_id", BigInteger, nullable=False),
    Column("series_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "annotation_id", "series_id"),
    Index(None, "project_id", "series_id"),
)

# -- processes, runs and exceptions (HawkFlow-style monitoring) --------------------------

processes = Table(
    "processes",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("name", String(250), nullable=False),
    Column("meta", String(500), nullable=False),
    # SHA-256 of (name, meta): together they can exceed an index key's size limit.
    Column("ident", String(64), nullable=False),
    # Every closed run writes its duration here, every exception a count: both are plain
    # series, so they chart, roll up and alert like any stat.
    Column("duration_series_id", BigInteger, nullable=False),
    Column("exceptions_series_id", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    UniqueConstraint("project_id", "ident"),
)

# Which series hold a process's metrics (a series' labels say so too, but cannot be indexed).
process_metrics = Table(
    "process_metrics",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("process_id", BigInteger, nullable=False),
    Column("series_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "process_id", "series_id"),
)

runs = Table(
    "runs",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("process_id", BigInteger, nullable=False),
    Column("uid", String(50), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", BigInteger, nullable=True),  # None for an orphan end
    Column("ended_at", BigInteger, nullable=True),  # None while running or abandoned
    Column("duration_ms", BigInteger, nullable=True),
    Column("info", Text, nullable=True),
    # Exceptions the process reported while this was its newest open run: a run that ends
    # with any is "failed", known without another query at its end.
    Column("exception_count", Integer, nullable=False),
    # The run's place on the timeline: its start, or its end for an orphan end.
    Column("seen_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    # An end looks for the newest open run of its process with its uid.
    Index(None, "project_id", "process_id", "status", "uid", "started_at"),
    Index(None, "project_id", "process_id", "seen_at"),
    # The sweep that abandons stale runs looks across projects.
    Index(None, "status", "started_at"),
)

exception_groups = Table(
    "exception_groups",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    # Hex SHA-256 of the process name, exception type and normalised frames.
    Column("fingerprint", String(64), nullable=False),
    Column("process_name", String(250), nullable=False),
    Column("type", String(250), nullable=False),
    Column("message", String(500), nullable=False),
    Column("first_seen", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    # When the group last became open (its first report, or the report that reopened it after
    # it was resolved): an exception alert fires again for a reopened group.
    Column("opened_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    UniqueConstraint("project_id", "fingerprint"),
    Index(None, "project_id", "last_seen"),
)

exceptions = Table(
    "exceptions",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("group_id", BigInteger, nullable=False),
    Column("process_id", BigInteger, nullable=False),
    # The newest run of the process open when the report came in, if any.
    Column("run_id", BigInteger, nullable=True),
    Column("occurred_at", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    Index(None, "project_id", "group_id", "occurred_at"),
    Index(None, "project_id", "process_id", "occurred_at"),
)

# Tables whose rows carry a global id drawn from dialects.next_id.
ID_TABLES: tuple[str, ...] = (
    "projects",
    "api_keys",
    "series",
    "annotations",
    "processes",
    "runs",
    "exception_groups",
    "exceptions",
    "stathat_imports",
    "users",
    "alerts",
    "alert_events",
    "silences",
    "dashboards",
    "shares",
    "agents",
    "workflows",
)

# -- traces --
# HoneyHive events and OpenTelemetry spans, one row each. Ids are the clients' UUIDs (or
# derived from span ids), so a re-delivered event lands on its own row. Times are unix
# milliseconds *with a fraction* (HoneyHive's wire format; spans carry nanoseconds), kept as
# doubles: siblings a few microseconds apart must still sort in order. The seven buckets are
# JSON text.
trace_events = Table(
    "trace_events",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("session_id", String(36), nullable=False),
    Column("parent_id", String(36), nullable=True),
    Column("event_type", String(16), nullable=False),
    # 255 characters keep an index entry under PostgreSQL's B-tree limit in any script.
    Column("event_name", String(255), nullable=False),
    Column("source", String(255), nullable=False),
    Column("start_time", Float, nullable=False),
    Column("end_time", Float, nullable=False),
    Column("duration", Float, nullable=False),
    # The error text may be a whole traceback, too long to index; this 0/1 flag is indexed.
    Column("has_error", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("prompt_tokens", BigInteger, nullable=True),
    Column("completion_tokens", BigInteger, nullable=True),
    Column("total_tokens", BigInteger, nullable=True),
    Column("cost", Float, nullable=True),
    Column("inputs", Text, nullable=False),
    Column("outputs", Text, nullable=False),
    Column("config", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("feedback", Text, nullable=False),
    Column("user_properties", Text, nullable=False),
    # Only the ids a client named; children found through parent_id are added on read.
    Column("children_ids", Text, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "event_id"),
    # Every span insert touches every index, so only those a query needs (migration 0010):
    # a session's events, oldest first (and "sessions holding an event named …").
    Index(None, "project_id", "session_id", "start_time"),
    # An event's children; the parents and children a batch links (ActiveWorkflow agents).
    Index(None, "project_id", "parent_id"),
    # Every search, newest first; type and time filters are read along it.
    Index(None, "project_id", "start_time"),
    # Search by event name, the filter the web app and the API offer.
    Index(None, "project_id", "event_name", "start_time"),
    # Failed events only, newest first: a span without an error never touches this index. A
    # query must spell ``has_error = 1`` as a literal to use it (``event_search``).
    Index(
        "ix_trace_events_errors",
        "project_id",
        "start_time",
        sqlite_where=text("has_error = 1"),
        postgresql_where=text("has_error = 1"),
    ),
)

# Per-session totals, updated in the same transaction as the events, so listing sessions
# never scans their events. A row exists as soon as any event of the session does.
trace_sessions = Table(
    "trace_sessions",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("session_id", String(36), nullable=False),
    Column("start_time", Float, nullable=False),  # earliest start of its events
    Column("end_time", Float, nullable=False),  # latest end of its events
    Column("event_count", BigInteger, nullable=False),  # events below the session event
    Column("model_event_count", BigInteger, nullable=False),
    Column("error_count", BigInteger, nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("total_tokens", BigInteger, nullable=False),
    Column("cost", Float, nullable=False),
    PrimaryKeyConstraint("project_id", "session_id"),
    Index(None, "project_id", "start_time"),
)

# A session's user properties as searchable pairs (values clipped to 255 characters), so
# "sessions of users on the pro tier" is an index lookup on both databases.
trace_session_properties = Table(
    "trace_session_properties",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("session_id", String(36), nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", String(255), nullable=False),
    PrimaryKeyConstraint("project_id", "session_id", "name"),
    Index(None, "project_id", "name", "value"),
)

# -- stathat -------------------------------------------------------------------------------

# Other names a key answers to as a StatHat ezkey: StatHat users hard-coded their e-mail
# address as the ezkey. Only /ez accepts an alias, and only while its key is active.
api_key_aliases = Table(
    "api_key_aliases",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("key_id", BigInteger, nullable=False),
    Column("alias", String(255), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "key_id", "alias"),
    # An ezkey is looked up before the project is known, and names one key.
    UniqueConstraint("alias"),
)

# One import from a StatHat-compatible export API. The token is kept only while the job is
# unfinished, so a restarted server can resume it.
stathat_imports = Table(
    "stathat_imports",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # queued, running, done, failed
    Column("runner", String(16), nullable=False),  # server (background) or cli (foreground)
    Column("base_url", String(500), nullable=False),
    Column("access_token", String(200), nullable=True),
    # Every range ends here, so a resumed job asks for what the first attempt asked.
    Column("snapshot_at", BigInteger, nullable=False),
    Column("listed", Boolean, nullable=False),
    Column("stats_total", Integer, nullable=False),
    Column("stats_done", Integer, nullable=False),
    Column("points_imported", BigInteger, nullable=False),
    Column("errors", Text, nullable=False),  # JSON list of messages
    Column("created_at", BigInteger, nullable=False),
    Column("started_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    # The background runner looks for unfinished jobs across projects.
    Index(None, "state"),
)

# The stats of one import, in the source's order, with how far each has come: the tier being
# imported and the start of the next range to ask for.
stathat_import_stats = Table(
    "stathat_import_stats",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("import_id", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    Column("source_id", String(100), nullable=False),
    Column("name", String(255), nullable=False),
    Column("counter", Boolean, nullable=False),
    Column("classic_key", String(255), nullable=True),
    Column("received_at", BigInteger, nullable=True),
    Column("series_id", BigInteger, nullable=True),
    Column("state", String(16), nullable=False),  # pending, done, failed
    Column("tier", Integer, nullable=True),
    Column("cursor", BigInteger, nullable=True),
    Column("points", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "import_id", "position"),
)

# What imports wrote into each roll-up bucket. A new import of a bucket applies only the
# difference to the roll-up, so importing twice never doubles a counter, and live points that
# share the bucket are kept.
stathat_imported_buckets = Table(
    "stathat_imported_buckets",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("series_id", BigInteger, nullable=False),
    Column("tier", Integer, nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("sum", Float, nullable=False),
    PrimaryKeyConstraint("project_id", "series_id", "tier", "bucket"),
    sqlite_with_rowid=False,
)


# -- users and memberships -------------------------------------------------------------------

# People are not tenants: a user belongs to projects through memberships.
users = Table(
    "users",
    metadata,
    Column("id", BigInteger, nullable=False, autoincrement=False),
    Column("email", String(254), nullable=False),
    # argon2id; None for a user who signs in with tokens only.
    Column("password_hash", String(200), nullable=True),
    # Part of every token; bumping it revokes all the user's tokens.
    Column("token_version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("email"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "user_id"),
    # "Which projects may this user see" is asked on every request a user makes.
    Index(None, "user_id"),
)

# -- alerts --

# One rule. The kind's own fields are JSON in ``definition`` (their shapes are checked by the
# API); the columns beside it are what the evaluator and the lists need without parsing it.
alerts = Table(
    "alerts",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("definition", Text, nullable=False),
    Column("channel_ids", Text, nullable=False),  # JSON list
    Column("enabled", Boolean, nullable=False),
    Column("for_seconds", Integer, nullable=False),
    Column("repeat_every", Integer, nullable=True),  # seconds
    Column("stat_id", BigInteger, nullable=True),
    # The worst state of its keys, and the figures shown with it.
    Column("state", String(16), nullable=False),
    Column("last_value", Float, nullable=True),
    Column("last_evaluated_at", BigInteger, nullable=True),
    Column("fired_at", BigInteger, nullable=True),
    # Bumped by every change of the rule: an evaluation read before the change is not applied.
    Column("version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    # The evaluator reads every enabled alert, across projects.
    Index(None, "enabled"),
)
# The state of each thing an alert watches: one row ("" key) for most kinds, one per user,
# session or exception group for spend and exception alerts (kept while not ok).
alert_states = Table(
    "alert_states",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("alert_id", BigInteger, nullable=False),
    Column("key", String(255), nullable=False),
    Column("label", String(500), nullable=True),
    Column("state", String(16), nullable=False),
    Column("value", Float, nullable=True),
    Column("pending_since", BigInteger, nullable=True),
    Column("fired_at", BigInteger, nullable=True),
    Column("last_notified_at", BigInteger, nullable=True),
    Column("mark", BigInteger, nullable=True),
    PrimaryKeyConstraint("project_id", "alert_id", "key"),
)
# Every state change of every key, with whether it was told to the channels.
alert_events = Table(
    "alert_events",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("alert_id", BigInteger, nullable=False),
    Column("key", String(255), nullable=False),
    Column("label", String(500), nullable=True),
    Column("from_state", String(16), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("value", Float, nullable=True),
    Column("notified", Boolean, nullable=False),
    Column("silenced", Boolean, nullable=False),
    Column("at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    Index(None, "project_id", "alert_id", "id"),
)
# Notifications are held back (states still change) until ``until``; for one alert, or for
# the whole project when ``alert_id`` is None.
silences = Table(
    "silences",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("alert_id", BigInteger, nullable=True),
    Column("until", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    Index(None, "project_id", "until"),
)

# -- channels and notifications --

# Where notifications go: Roost's signed webhook (http/https) or any Apprise URL.
channels = Table(
    "channels",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # webhook or apprise
    # The URL as given, credentials included: sending needs them. Answers show masked_url.
    Column("url", Text, nullable=False),
    Column("masked_url", Text, nullable=False),
    # Signs webhook bodies; shown once at creation, never in a list or a get.
    Column("secret", String(100), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
)

# The outbox: one row per (notification, channel), written in the alert engine's transaction,
# so a notification is never lost to a restart. The dispatcher claims due rows with a
# conditional UPDATE (state pending → sending), sends, then records the outcome.
notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("alert_id", BigInteger, nullable=True),
    Column("payload", Text, nullable=False),  # JSON object
    Column("state", String(16), nullable=False),  # pending, sending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    # A claim not recorded by then (the node died mid-send) is taken up again.
    Column("claimed_until", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    # The dispatcher looks for due rows across projects.
    Index(None, "state", "next_attempt_at"),
)

# Every attempt to deliver (outbox sends and channel tests), newest first per channel.
deliveries = Table(
    "deliveries",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("outbox_id", BigInteger, nullable=True),  # None for a test send
    Column("alert_id", BigInteger, nullable=True),
    Column("attempt", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text, nullable=True),
    Column("at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    Index(None, "project_id", "channel_id", "id"),
)


# -- dashboards and public shares --

dashboards = Table(
    "dashboards",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
)

# A dashboard's charts in order: an edit replaces all its rows, so positions stay 0..n-1.
dashboard_panels = Table(
    "dashboard_panels",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("dashboard_id", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    Column("stat_id", BigInteger, nullable=False),
    Column("title", String(200), nullable=True),  # None: the stat's name
    PrimaryKeyConstraint("project_id", "dashboard_id", "position"),
)

# A public link to one dashboard or one stat. The token is the only secret of a public page;
# deleting the row is revoking it, so every URL built on it is 404 from the next request.
shares = Table(
    "shares",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("token", String(64), nullable=False),
    Column("dashboard_id", BigInteger, nullable=True),
    Column("stat_id", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    # A public request names only the token: it is looked up before the project is known.
    UniqueConstraint("token"),
    # Deleting a dashboard deletes its shares.
    Index(None, "project_id", "dashboard_id"),
)


# -- agents, messages and workflows (ActiveWorkflow API) --

# Everything that emits records: a HawkFlow process, a trace event name per event type, a
# stat, or an agent imported from a workflow file. Derived agents are keyed by what they stand
# for (kind + ref), so ingest finds them without knowing their id.
agents = Table(
    "agents",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # process, stat, event, imported
    # The process or series id, "<event type>:<event name>", or the guid of an imported agent.
    Column("ref", String(300), nullable=False),
    Column("name", String(255), nullable=False),
    Column("type", String(100), nullable=False),  # "Agents::Process" …
    Column("guid", String(32), nullable=False),
    Column("disabled", Boolean, nullable=False),
    # Kept by the writer and by retention, so listing agents never counts messages.
    Column("messages_count", BigInteger, nullable=False),
    Column("options", Text, nullable=False),  # JSON object, from imports
    Column("schedule", String(16), nullable=True),
    Column("keep_messages_for", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    UniqueConstraint("project_id", "kind", "ref"),
    UniqueConstraint("project_id", "guid"),
)

# The records agents emitted, one block per agent per write transaction (storage/messages.py):
# ``payloads`` is a JSON list of [created_at, payload] pairs, ``created_at`` the newest of them.
# No expiry column: a message expires with the raw data (``retention_raw_days``), so
# expires_at is derived on read. Unlike other tables the id alone is the key, drawn by the
# database on insert (SQLite's rowid, a PostgreSQL bigserial): blocks are written on every
# ingest commit, and this way a block costs one table B-tree and one index, with no id counter
# to bump and no index on time (ids follow time, so retention walks the key). Reads still
# always filter on the project.
message_blocks = Table(
    "message_blocks",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("project_id", BigInteger, nullable=False),
    Column("agent_id", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("payloads", Text, nullable=False),
    Index(None, "project_id", "agent_id", "id"),
)

# Links between agents: "data" (a source feeds a receiver; trace parent → child, or imported)
# and "control" (imported control links). An agent's sources are its incoming data links.
agent_links = Table(
    "agent_links",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("source_id", BigInteger, nullable=False),
    Column("receiver_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "kind", "source_id", "receiver_id"),
    Index(None, "project_id", "receiver_id"),
)

workflows = Table(
    "workflows",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("guid", String(32), nullable=False),
    Column("tag_fg_color", String(7), nullable=True),
    Column("tag_bg_color", String(7), nullable=True),
    Column("icon", String(100), nullable=True),
    # "session:<name>" for the workflow Roost keeps per trace session name; None otherwise.
    Column("auto_key", String(300), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("id"),
    UniqueConstraint("project_id", "guid"),
    UniqueConstraint("project_id", "auto_key"),
)

workflow_agents = Table(
    "workflow_agents",
    metadata,
    Column("project_id", BigInteger, nullable=False),
    Column("workflow_id", BigInteger, nullable=False),
    Column("agent_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "workflow_id", "agent_id"),
)
