-- Revenue per country, from the per-customer model.
select country, count(*) as customers, sum(orders) as orders, round(sum(revenue), 2) as revenue
from {{ ref('customer_revenue') }}
group by country
