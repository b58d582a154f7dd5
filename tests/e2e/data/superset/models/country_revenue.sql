-- Revenue per country, built on the other model.
{{ config(materialized='table') }}
select country, sum(total) as revenue, sum(n_orders) as n_orders
from {{ ref('customer_totals') }}
group by country
