-- A model that needs no source: `dbt parse` checks the project and the profile offline.
select current_date as day, 0 as orders
