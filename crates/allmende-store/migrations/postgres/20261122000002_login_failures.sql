-- Failed logins per e-mail address, to slow down password guessing.
CREATE TABLE login_failures (
    email      TEXT NOT NULL,
    failed_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_email ON login_failures(email, failed_at);
