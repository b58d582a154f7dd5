-- Revenue per customer (paid + shipped orders), built by dbt-snowflake on the seeds.
select
    c.id as customer_id,
    c.name,
    count(o.id) as orders,
    sum(case when o.status in ('paid', 'shipped') then o.amount else 0 end) as revenue
from {{ ref('customers') }} as c
left join {{ ref('orders') }} as o on o.customer_id = c.id
group by c.id, c.name
