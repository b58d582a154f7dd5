-- Revenue per customer: orders that were paid or shipped count, refunds do not.
select
    c.id as customer_id,
    c.name,
    c.country,
    count(o.id) as orders,
    sum(case when o.status = 'refunded' then 1 else 0 end) as refunded,
    round(sum(case when o.status in ('paid', 'shipped') then cast(o.amount as numeric) else 0 end), 2) as revenue
from {{ source('tap_csv', 'customers') }} as c
left join {{ source('tap_csv', 'orders') }} as o on o.customer_id = c.id
group by c.id, c.name, c.country
