-- Run once by the postgres image on an empty data directory: one server, a
-- database per service (the services apply their own migrations at start).
CREATE DATABASE auth;
CREATE DATABASE billing;
