-- One row per customer: how many orders and how much, from the loaded tables.
select
    c.id as customer_id,
    c.name,
    c.country,
    count(o.id) as n_orders,
    round(sum(cast(o.amount as numeric)), 2) as total
from {{ source('tap_csv', 'customers') }} as c
join {{ source('tap_csv', 'orders') }} as o on o.customer_id = c.id
group by c.id, c.name, c.country
