-- Certificates of service (志愿服务证明): ledger.Certificate by serial
-- (YYYY-XXXXXXXX).
CREATE TABLE certificates (
    serial text PRIMARY KEY,
    doc    text NOT NULL
);
