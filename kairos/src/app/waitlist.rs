//! The waitlist: join a full session's list, see your places, leave. Filling freed places
//! happens in the store, inside whatever change frees them.

use futures_util::FutureExt;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{App, AppError, Caller, PageRequest};
use crate::{
    domain::{id::new_id, page::Page, waitlist::WaitlistEntry},
    store::waitlist::{self, NewEntry},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JoinRequest {
    /// A full session of a published service.
    pub session_id: Uuid,
}

impl App {
    /// Puts the path's user at the end of a full session's list. The same rules as booking
    /// apply; a session with room is `session_not_full` (book it instead).
    pub async fn join_waitlist(
        &self,
        caller: &Caller,
        user_id: Uuid,
        request: JoinRequest,
    ) -> Result<WaitlistEntry, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let new = NewEntry {
            id: new_id(),
            user_id: user.id,
            session_id: request.session_id,
            now: self.now(),
        };
        self.store
            .write(move |w| waitlist::join(w, new).boxed())
            .await
            .map_err(AppError::or_missing("session"))
    }

    /// The path's user's places in lists still served, soonest session first.
    pub async fn waitlist(
        &self,
        caller: &Caller,
        user_id: Uuid,
        page: &PageRequest,
    ) -> Result<Page<WaitlistEntry>, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let (limit, after) = page.by_time()?;
        let (user_id, now) = (user.id, self.now());
        Ok(self
            .store
            .read(move |r| waitlist::of_user(r, user_id, after, limit, now).boxed())
            .await?)
    }

    /// Takes the path's user off a list. An entry that is not theirs, or is gone (they were
    /// given a place, or the list ended), is not found.
    pub async fn leave_waitlist(
        &self,
        caller: &Caller,
        user_id: Uuid,
        entry_id: Uuid,
    ) -> Result<(), AppError> {
        let user = self.path_user(caller, user_id).await?;
        let user_id = user.id;
        self.store
            .write(move |w| waitlist::leave(w, user_id, entry_id).boxed())
            .await
            .map_err(AppError::or_missing("waitlist entry"))
    }
}
