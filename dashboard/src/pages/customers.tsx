import { EmptyState, LoadError, MetadataList, Pagination, SearchBox, Spinner } from '../components/ui'
import { date } from '../lib/format'
import { useList } from '../lib/hooks'
import { useTitle } from '../lib/router'
import type { Customer } from '../lib/types'

export function CustomersList() {
  useTitle('Customers')
  const list = useList<Customer>('/v1/customers/')
  return (
    <>
      <h1 className="section-title">Customers</h1>
      <div className="toolbar">
        <SearchBox label="Search customers" placeholder="Search by name, email or external ID" />
      </div>
      {list.error && <LoadError error={list.error} retry={list.reload} />}
      {!list.data && list.loading && <Spinner />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState title={list.q ? 'No customers match your search' : 'No customers yet'}>{list.q ? undefined : 'A customer is created with their first paid checkout.'}</EmptyState>
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Customers</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">External ID</th>
                <th scope="col">Since</th>
                <th scope="col">Metadata</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((c) => (
                <tr key={c.id}>
                  <td className="strong">{c.email}</td>
                  <td>{c.name ?? <span className="muted">—</span>}</td>
                  <td>{c.external_id ? <code>{c.external_id}</code> : <span className="muted">—</span>}</td>
                  <td>{date(c.created_at)}</td>
                  <td>
                    <MetadataList metadata={c.metadata} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && <Pagination page={list.page} maxPage={list.data.pagination.max_page} total={list.data.pagination.total_count} onPage={list.setPage} />}
    </>
  )
}
