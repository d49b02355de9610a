-- One database per service: no service can read another's tables.
CREATE DATABASE patients;
CREATE DATABASE scheduling;
CREATE DATABASE billing;
CREATE DATABASE collections;
