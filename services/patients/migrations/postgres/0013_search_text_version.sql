-- Which version of the search text the patients' rows hold: the registry rebuilds every row's
-- search_text when it starts with a newer way of building it (Chinese names whole and in
-- pinyin came with version 2).
CREATE TABLE search_text_version (
    version BIGINT NOT NULL
);
INSERT INTO search_text_version (version) VALUES (1);
