-- Named server secrets (the key that signs member cards, check-in codes…),
-- made at random on first use; every app server reads the same ones.
CREATE TABLE secrets (
    name  text  PRIMARY KEY,
    value bytea NOT NULL
);
