-- A singular dbt test that fails on purpose: one order is above 15.
select * from {{ source('tap_csv', 'orders') }} where cast(amount as numeric) > 15
