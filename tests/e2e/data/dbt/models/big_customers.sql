-- Customers with at least var('min_orders') orders (default 1): checks that --vars reaches dbt.
select customer_id, name, n_orders
from {{ ref('customer_totals') }}
where n_orders >= {{ var('min_orders', 1) }}
