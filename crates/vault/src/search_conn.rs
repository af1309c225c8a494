//! Read-only catalog connections for searches, kept apart from the pool: sqlx's pool
//! gives a SQLite connection back through a spawned task and a ping on the connection's
//! worker thread, two thread hand-offs per use that cost a search more than its queries.
//! These connections are `query_only`, so a search cancelled mid-query (a client gone)
//! leaves nothing to roll back: sqlx resets the statement when its rows stop being read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::catalog::tenant_with_active_version_on;
use crate::error::VaultError;
use crate::records::TenantRecord;

/// At most this many searches read at once (the rest wait their turn); each connection
/// keeps its own page cache.
pub(crate) const SEARCH_CONNECTIONS: usize = 4;

/// Searches read the catalog file through a memory map (no read call and copy per page
/// that misses the connection's page cache); SQLite maps at most this much of the file.
const MMAP_BYTES: u64 = 1 << 34;

/// The search connections of one catalog, opened as they are first needed.
#[derive(Debug, Clone)]
pub(crate) struct SearchConnections {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    options: SqliteConnectOptions,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<SqliteConnection>>,
    /// What searches last read of each tenant (see [`SearchTenant`]).
    tenants: Mutex<HashMap<String, SearchTenant>>,
}

/// What a search needs of its tenant: the country that national numbers are read in and
/// the active policy version the search is decided under. Searches keep the last one
/// read and check it in the same statement as their first page ([`SearchTenant::guard`]):
/// a page read under an outdated one comes back empty, and an empty first page is
/// checked against the catalog before it is believed. So a policy approved or a country
/// changed by another process takes effect at the next search, and a search with hits
/// costs no separate tenant read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTenant {
    pub name: String,
    pub country: Option<String>,
    pub version: i64,
    /// Read from the catalog for this search (not a kept copy).
    pub checked: bool,
}

/// One search connection, given back when dropped.
#[derive(Debug)]
pub struct SearchConnection {
    conn: Option<SqliteConnection>,
    /// The connection failed in a way that leaves it unusable: closed, not given back.
    broken: bool,
    inner: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
}

impl SearchConnections {
    pub(crate) fn new(options: &SqliteConnectOptions) -> Self {
        SearchConnections {
            inner: Arc::new(Inner {
                options: options
                    .clone()
                    .pragma("query_only", "ON")
                    .pragma("mmap_size", MMAP_BYTES.to_string()),
                permits: Arc::new(Semaphore::new(SEARCH_CONNECTIONS)),
                idle: Mutex::new(Vec::new()),
                tenants: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// An idle connection, a new one while fewer than [`SEARCH_CONNECTIONS`] exist, or
    /// the next one given back.
    pub(crate) async fn get(&self) -> Result<SearchConnection, VaultError> {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| VaultError::Database(sqlx::Error::PoolClosed))?;
        let idle = self.inner.idle.lock().expect("search connections").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.inner.options.connect().await?,
        };
        Ok(SearchConnection {
            conn: Some(conn),
            broken: false,
            inner: self.inner.clone(),
            _permit: permit,
        })
    }

    /// Refuses new searches and closes the idle connections.
    pub(crate) async fn close(&self) {
        self.inner.permits.close();
        let idle = std::mem::take(&mut *self.inner.idle.lock().expect("search connections"));
        for conn in idle {
            let _ = conn.close().await;
        }
    }
}

impl SearchConnection {
    /// Passes `result` on; an error saying the connection itself is gone (its worker
    /// thread, or the file underneath) keeps it from being given back, so the next
    /// search opens a new one instead of failing on it too.
    pub(crate) fn keep_if_alive<T>(&mut self, result: Result<T, VaultError>) -> Result<T, VaultError> {
        if let Err(VaultError::Database(sqlx::Error::WorkerCrashed | sqlx::Error::Io(_) | sqlx::Error::Protocol(_))) =
            &result
        {
            self.broken = true;
        }
        result
    }

    /// The tenant and the version of its policy in force, in one query.
    pub async fn tenant_with_active_version(&mut self, name: &str) -> Result<(TenantRecord, i64), VaultError> {
        let read = tenant_with_active_version_on(self, name).await;
        self.keep_if_alive(read)
    }

    /// The tenant as searches last read it, or read now when none was kept.
    pub async fn search_tenant(&mut self, name: &str) -> Result<SearchTenant, VaultError> {
        let kept = self.inner.tenants.lock().expect("search tenants").get(name).cloned();
        match kept {
            Some(tenant) => Ok(SearchTenant {
                checked: false,
                ..tenant
            }),
            None => self.checked_search_tenant(name).await,
        }
    }

    /// The tenant as the catalog has it now (kept for the next searches).
    pub async fn checked_search_tenant(&mut self, name: &str) -> Result<SearchTenant, VaultError> {
        let (record, version) = self.tenant_with_active_version(name).await?;
        let tenant = SearchTenant {
            name: record.name,
            country: record.country,
            version,
            checked: true,
        };
        self.inner
            .tenants
            .lock()
            .expect("search tenants")
            .insert(name.to_owned(), tenant.clone());
        Ok(tenant)
    }
}

impl std::ops::Deref for SearchConnection {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.conn.as_ref().expect("connection until dropped")
    }
}

impl std::ops::DerefMut for SearchConnection {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("connection until dropped")
    }
}

impl Drop for SearchConnection {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !self.broken
            && !self.inner.permits.is_closed()
        {
            self.inner.idle.lock().expect("search connections").push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle(catalog: &crate::Catalog) -> usize {
        catalog.search.inner.idle.lock().unwrap().len()
    }

    #[tokio::test]
    async fn a_connection_that_is_gone_is_not_given_back_and_one_that_only_failed_a_query_is() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = crate::Catalog::open(&dir.path().join("catalog.sqlite")).await.unwrap();
        let mut conn = catalog.search_connection().await.unwrap();
        let missing = conn.tenant_with_active_version("nobody").await;
        assert!(matches!(missing, Err(VaultError::NotFound(_))));
        drop(conn);
        assert_eq!(
            idle(&catalog),
            1,
            "a query that found nothing leaves the connection usable"
        );

        let mut conn = catalog.search_connection().await.unwrap();
        let gone: Result<(), VaultError> = conn.keep_if_alive(Err(VaultError::Database(sqlx::Error::WorkerCrashed)));
        assert!(gone.is_err(), "the error is passed on");
        drop(conn);
        assert_eq!(idle(&catalog), 0, "a crashed connection is closed, not reused");
        // The next search opens a new one.
        let mut conn = catalog.search_connection().await.unwrap();
        assert!(matches!(
            conn.tenant_with_active_version("nobody").await,
            Err(VaultError::NotFound(_))
        ));
        drop(conn);
        catalog.close().await;
        assert!(
            catalog.search_connection().await.is_err(),
            "a closed catalog takes no searches"
        );
    }
}
