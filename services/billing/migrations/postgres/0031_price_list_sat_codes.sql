-- The SAT catalogue codes each item is invoiced under (c_ClaveProdServ, c_ClaveUnidad), both or
-- neither; without them invoices use the item kind's codes. Keep in step with
-- ../sqlite/0031_price_list_sat_codes.sql.
ALTER TABLE price_list_items
    ADD COLUMN sat_product_code TEXT, -- 8 digits, e.g. 85121600
    ADD COLUMN sat_unit_code TEXT,    -- e.g. E48, H87
    ADD CONSTRAINT price_list_items_sat_codes CHECK (
        (sat_product_code IS NULL) = (sat_unit_code IS NULL)
    );
